from django.urls import path

from . import views

urlpatterns = [
    path("agency/", views.MyAgencyView.as_view(), name="my-agency"),
]
