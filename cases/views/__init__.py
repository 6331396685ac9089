"""The HTTP API of cases, one module per area (each with its ``urlpatterns``)."""
