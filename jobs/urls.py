from django.urls import path

from jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("events/", views.job_events, name="events"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/card", views.job_card, name="card"),
    path("<int:pk>/cancel", views.job_cancel, name="cancel"),
    path("<int:pk>/retry", views.job_retry, name="retry"),
]
