"""Sectors and roles: fixed vocabularies that code branches on."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sector(models.TextChoices):
    PUBLIC_SECURITY = "public_security", _("Public security")
    JUDICIAL = "judicial", _("Judicial")
    FINANCIAL_REGULATOR = "financial_regulator", _("Financial regulator")
    BANK = "bank", _("Bank")
    PAYMENT_INSTITUTION = "payment_institution", _("Payment institution")
    TELECOM_OPERATOR = "telecom_operator", _("Telecom operator")
    INTERNET_REGULATOR = "internet_regulator", _("Internet regulator")
    INTERNET_PLATFORM = "internet_platform", _("Internet platform")
    GOVERNMENT = "government", _("Other government department")


# Chinese names of the sectors for reference listings (the API answers both).
SECTOR_NAMES_ZH = {
    Sector.PUBLIC_SECURITY: "公安",
    Sector.JUDICIAL: "司法",
    Sector.FINANCIAL_REGULATOR: "金融监管",
    Sector.BANK: "银行",
    Sector.PAYMENT_INSTITUTION: "支付机构",
    Sector.TELECOM_OPERATOR: "电信运营商",
    Sector.INTERNET_REGULATOR: "互联网监管",
    Sector.INTERNET_PLATFORM: "互联网平台",
    Sector.GOVERNMENT: "其他政府部门",
}

FINANCIAL_SECTORS = frozenset({Sector.BANK, Sector.PAYMENT_INSTITUTION})


class Role(models.TextChoices):
    ANALYST = "analyst", _("Centre analyst")
    SUPERVISOR = "supervisor", _("Centre supervisor")
    LIAISON = "liaison", _("Agency liaison")
    MANAGER = "manager", _("Agency manager")
    AUDITOR = "auditor", _("Auditor")


# What each role may see and do, and which belong to the centre: ``agencies.roles``.

# The anti-fraud centre's agency code (protocol: stable for ever).
CENTRE_AGENCY_CODE = "AFC"
