from django.urls import path

from create import views

app_name = "create"
urlpatterns = [
    path("create/", views.create, name="index"),
    # Made again (before create/<slug>, which would take "recall" for a model).
    path("create/recall", views.recall, name="recall"),
    path("images/<int:pk>/rerun", views.rerun, name="rerun"),
    path("images/<int:pk>/remix", views.remix, name="remix"),
    path("images/<int:pk>/variations", views.variations, name="variations"),
    path("images/<int:pk>/send/utils/faceswap", views.send_to_faceswap, name="send-faceswap"),
    path("images/<int:pk>/send/<path:slug>", views.send_to_utility, name="send"),
    path("create/<path:slug>/validate", views.validate_endpoint, name="validate"),
    path("create/<path:slug>", views.create_endpoint, name="create-endpoint"),
]
