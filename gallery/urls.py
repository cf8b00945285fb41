from django.urls import path

from gallery import views

app_name = "gallery"
urlpatterns = [
    path("", views.image_list, name="list"),
    path("<int:pk>/", views.image_detail, name="detail"),
    path("<int:pk>/file", views.image_file, name="file"),
    path("<int:pk>/thumbnail", views.image_thumbnail, name="thumbnail"),
    path("<int:pk>/favourite", views.image_favourite, name="favourite"),
    path("<int:pk>/collections", views.image_collections, name="image-collections"),
    path("bulk", views.bulk, name="bulk"),
    path("zip", views.images_zip, name="zip"),
    path("delete", views.images_delete, name="delete"),
    path("compare", views.compare, name="compare"),
    path("collections/", views.collection_list, name="collections"),
    path("collections/<int:pk>/", views.collection_detail, name="collection"),
    path("collections/<int:pk>/rename", views.collection_rename, name="collection-rename"),
    path("collections/<int:pk>/delete", views.collection_delete, name="collection-delete"),
]
