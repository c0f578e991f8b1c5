from django.urls import path

from .views import attention, case_edit, cases, dashboard, fund_return, measures, queues, tasks

urlpatterns = [
    path("", cases.home, name="home"),
    path("cases/", cases.CaseListView.as_view(), name="case-list"),
    path("cases/new/", cases.CaseCreateView.as_view(), name="case-create"),
    path("cases/check/", cases.FieldCheckView.as_view(), name="field-check"),
    path("cases/<int:pk>/", cases.CaseDetailView.as_view(), name="case-detail"),
    path("cases/<int:pk>/changes/", cases.CaseChangesView.as_view(), name="case-changes"),
    # Before the catch-all of one-click actions below.
    path("cases/<int:pk>/edit/", case_edit.CaseEditView.as_view(), name="case-edit"),
    path("cases/<int:pk>/freezes/convert/", measures.ConvertFreezesView.as_view(), name="convert-freezes"),
    path(
        "cases/<int:pk>/fund-return/<int:identifier>/",
        fund_return.FundReturnView.as_view(),
        name="fund-return",
    ),
    path("cases/<int:pk>/measures/<str:type>/", measures.MeasureCreateView.as_view(), name="measure-create"),
    path(
        "cases/<int:pk>/<str:what>/",
        cases.CaseActionView.as_view(),
        name="case-action",
    ),
    path("tasks/<int:pk>/", tasks.TaskDetailView.as_view(), name="task-detail"),
    path("tasks/<int:pk>/renew/", measures.RenewView.as_view(), name="task-renew"),
    path("tasks/<int:pk>/reissue/", measures.ReissueView.as_view(), name="task-reissue"),
    path("tasks/<int:pk>/<str:what>/", tasks.TaskActionView.as_view(), name="task-action"),
    path("inbox/", queues.InboxView.as_view(), name="inbox"),
    path("approvals/", queues.ApprovalQueueView.as_view(), name="approvals"),
    path("attention/", attention.AttentionView.as_view(), name="attention"),
    path("dashboard/", dashboard.DashboardView.as_view(), name="dashboard"),
    path("dashboard/agencies.csv", dashboard.AgencyPerformanceCSV.as_view(), name="dashboard-csv"),
]
