"""Pages of cases and tasks, one module per area (all through ``ScopedViewMixin``)."""
