from django.urls import path

from gallery import views

app_name = "gallery"
urlpatterns = [
    path("", views.image_list, name="list"),
    path("<int:pk>/", views.image_detail, name="detail"),
    path("<int:pk>/file", views.image_file, name="file"),
    path("<int:pk>/thumbnail", views.image_thumbnail, name="thumbnail"),
]
