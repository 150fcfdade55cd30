app_name = "site"

urlpatterns = []
