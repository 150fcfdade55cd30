from django.conf import settings


def site(request) -> dict:
    return {"site_name": settings.SITE_NAME, "page_cache_seconds": settings.PAGE_CACHE_SECONDS}
