"""Variations: the image's recipe with N new random seeds."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from gallery.links import signed_media_url
from gallery.services import store_job_result
from jobs.models import Job, Stage
from tests.factories import ImageFactory, JobResultFactory, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_submit(monkeypatch):
    monkeypatch.setattr("jobs.tasks.submit_job.delay", lambda pk: None)


def url(image) -> str:
    return reverse("create:variations", args=[image.pk])


def new_jobs(image):
    return list(Job.objects.exclude(pk=image.job_id).order_by("pk"))


def test_variations_are_the_same_recipe_with_new_seeds(owner_client, owner):
    body = {"prompt": "a fox", "negative_prompt": "snow", "canvas": "Square", "guidance": 8.0}
    image = JobResultFactory(
        owner=owner, endpoint="sdxl/generative", body={**body, "model": "v1"}, seed=77
    )
    response = owner_client.post(url(image), {"count": "5"})
    assert response.status_code == 302 and response["Location"] == reverse("jobs:list")
    jobs = new_jobs(image)
    assert len(jobs) == 5
    seeds = [job.seed for job in jobs]
    assert len(set(seeds)) == 5 and all(seed is not None for seed in seeds)
    for job in jobs:
        assert job.endpoint == "sdxl/generative"
        assert {k: v for k, v in job.input.items() if k != "seed"} == {**body, "model": "v1"}
        assert job.input["seed"] == job.seed
        assert job.parent_image is None  # siblings, not children
        assert job.owner == owner and job.team is None
    assert len({job.batch for job in jobs}) == 1


def test_four_by_default(owner_client, owner):
    image = JobResultFactory(owner=owner)
    owner_client.post(url(image))
    assert len(new_jobs(image)) == 4


def test_htmx_answers_with_the_job_cards(owner_client, owner):
    image = JobResultFactory(owner=owner)
    response = owner_client.post(url(image), {"count": "3"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    for job in new_jobs(image):
        assert f'id="job-{job.pk}"' in html
    assert 'sse-connect="/jobs/events/"' in html


@pytest.mark.parametrize("count", ["0", "9", "-1", "four", "2.5"])
def test_out_of_range_counts_are_refused(owner_client, owner, count):
    image = JobResultFactory(owner=owner)
    response = owner_client.post(url(image), {"count": count})
    assert response["Location"] == image.get_absolute_url()
    [message] = list(get_messages(response.wsgi_request))
    assert "Ask for 1 to 8 variations." in str(message)
    assert new_jobs(image) == []
    htmx = owner_client.post(url(image), {"count": count}, headers={"HX-Request": "true"})
    assert "Ask for 1 to 8 variations." in htmx.content.decode()


def test_seedless_model_still_varies_by_the_engines_seed(owner_client, owner):
    image = JobResultFactory(owner=owner, endpoint="flux/schnell", body={"prompt": "a"}, seed=None)
    owner_client.post(url(image), {"count": "2"})
    jobs = new_jobs(image)
    assert len(jobs) == 2 and all(job.input == {"prompt": "a"} for job in jobs)


def test_utility_results_and_uploads_have_no_variations(owner_client, owner):
    source = ImageFactory(owner=owner, upload=True)
    job = Job.objects.create(
        owner=owner,
        endpoint="utils/remove-background",
        input={"image": signed_media_url(source.file.name, owner.pk)},
        status=Stage.SUCCEEDED,
        parent_image=source,
    )
    cut_out = store_job_result(job, png_bytes(), "image/png")
    for image, reason in ((cut_out, "made by a model"), (source, "no recipe")):
        response = owner_client.post(url(image))
        assert reason in str(list(get_messages(response.wsgi_request))[-1])
    assert Job.objects.count() == 1


def test_member_variations_go_private_or_to_the_team(client, owner, team, member):
    shared = JobResultFactory(owner=owner, team=team)
    client.force_login(member)
    client.post(url(shared), {"count": "2"})
    assert [job.team for job in Job.objects.filter(owner=member)] == [None, None]
    client.post(url(shared), {"count": "2", "save_to": str(team.pk)})
    assert Job.objects.filter(owner=member, team=team).count() == 2


def test_another_users_image_is_404(client, owner, outsider, team):
    private, shared = JobResultFactory(owner=owner), JobResultFactory(owner=owner, team=team)
    client.force_login(outsider)
    for image in (private, shared):
        assert client.post(url(image), {"count": "2"}).status_code == 404
    assert Job.objects.filter(owner=outsider).count() == 0
