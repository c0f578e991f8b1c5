from rest_framework.routers import SimpleRouter

from .views import DeliveryViewSet, NotificationViewSet

router = SimpleRouter()
router.register("deliveries", DeliveryViewSet, basename="delivery")
router.register("notifications", NotificationViewSet, basename="notification")
urlpatterns = router.urls
