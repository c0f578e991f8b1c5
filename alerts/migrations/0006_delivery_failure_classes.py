"""Attempt errors become classes of failure (v1.1 endpoint rule); a partner's reason gets its own column.

Before, ``error``/``last_error`` held an exception's text (with the address it
failed to reach) or the partner's body: both were shown to the agency. Existing
rows are converted: the partner's reason of a refusal moves to
``partner_reason`` (shown to the centre only), and every error becomes its class.
"""

from django.db import migrations, models


def classify(status: str, text: str) -> str:
    return f"""CASE
        WHEN {status} BETWEEN 300 AND 399 THEN 'http_3xx'
        WHEN {status} BETWEEN 400 AND 499 AND {status} <> 409 THEN 'http_4xx'
        WHEN {status} >= 500 THEN 'http_5xx'
        WHEN {status} IS NOT NULL THEN ''
        WHEN {text} = 'task cancelled before it was delivered' THEN 'cancelled'
        WHEN {text} ILIKE '%timeout%' THEN 'timeout'
        WHEN {text} ILIKE '%refused%' THEN 'refused'
        WHEN {text} ~* '(ssl|tls|certificate)' THEN 'tls'
        ELSE 'network' END"""


FORWARD = [
    "UPDATE alerts_delivery SET partner_reason = left(last_error, 300) WHERE last_status >= 400 AND last_error <> ''",
    f"""UPDATE alerts_delivery SET last_error = {classify("last_status", "last_error")}
        WHERE last_error <> '' OR last_status >= 300""",
    f"""UPDATE alerts_deliveryattempt SET error = {classify("status_code", "error")}
        WHERE error <> '' OR status_code >= 300""",
]


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0005_notification_groups"),
    ]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="partner_reason",
            field=models.CharField(blank=True, max_length=300, verbose_name="partner's reason"),
        ),
        # The texts before cannot be restored (they are what must not be shown): backwards keeps the classes.
        *(migrations.RunSQL(sql, reverse_sql=migrations.RunSQL.noop) for sql in FORWARD),
    ]
