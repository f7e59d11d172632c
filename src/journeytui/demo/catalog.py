"""What the demo company has: its calendar, lists, website, emails and audience.

The names here are shared with the demo journeys (``journeytui.demo.journeys``):
keep them exactly.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass


def ts(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    """UTC seconds of a calendar time."""
    return calendar.timegm((y, mo, d, h, mi, 0))


EPOCH = ts(2026, 1, 5, 9)  # first day of the simulated year
DATA_END = ts(2026, 11, 1)  # nothing happens at or after this instant
CREATED_AT = DATA_END  # meta.created_at of a demo store
HISTORY_START = ts(2024, 3, 1)  # earliest sign-up of the contacts already on file
LAPSED_SINCE = ts(2026, 8, 1)  # "We miss you" goes to those without a click since

DAY = 86_400
HOUR = 3_600

# -- lists, website, forms --------------------------------------------------------------
LISTS = ("Newsletter", "Product updates", "Webinars", "Customers")
NEWSLETTER, PRODUCT_UPDATES, WEBINARS, CUSTOMERS = range(4)

WWW = "https://www.example.com"
PRICING = f"{WWW}/pricing"
CONTACT_SALES = f"{WWW}/contact-sales"
TRACKER = f"{WWW}/products/tracker"
PLANNER = f"{WWW}/products/planner"
WHITEPAPER = f"{WWW}/whitepaper/email-benchmarks"
WEBINAR_SIGNUP = f"{WWW}/webinar/signup"
DEMO_PAGE = f"{WWW}/demo"

FORM_WEBINAR = "Webinar registration"
FORM_CONTACT_SALES = "Contact sales"
FORM_WHITEPAPER = "Whitepaper download"
VISIT_PAGES = (PRICING, DEMO_PAGE, TRACKER)


@dataclass(frozen=True)
class EmailSpec:
    """One email of the demo calendar and how its audience tends to react."""

    name: str
    subject: str
    list_index: int
    status: str  # draft | scheduled | sent
    send_at: int | None
    links: tuple[tuple[str, float], ...]  # (url, how attractive)
    open_appeal: float = 1.0
    click_appeal: float = 1.0
    hard_bounce: float = 0.003
    soft_bounce: float = 0.007
    unsub: float = 0.002  # from the email's list, per delivered recipient
    unsub_all: float = 0.0006
    spam: float = 0.0002
    min_spam: int = 0  # the story needs at least this many spam reports
    lapsed_only: bool = False  # a re-engagement email to those without recent clicks


def _newsletter(month: int, day: int, subject: str, links: tuple[tuple[str, float], ...]) -> EmailSpec:
    label = calendar.month_name[month]
    return EmailSpec(
        f"Newsletter — {label} 2026", subject, NEWSLETTER, "sent", ts(2026, month, day, 10), links
    )


def _blog(slug: str) -> str:
    return f"{WWW}/blog/{slug}"


EMAILS: tuple[EmailSpec, ...] = (
    _newsletter(1, 6, "Happy new year: what's coming in 2026",
                ((_blog("2026-roadmap"), 3.0), (TRACKER, 1.5), (PLANNER, 1.0))),
    _newsletter(2, 3, "Five subject lines that worked in 2025",
                ((_blog("subject-lines"), 3.0), (TRACKER, 1.0))),
    EmailSpec("Whitepaper: Email benchmarks 2026", "Email benchmarks 2026: the numbers are in",
              NEWSLETTER, "sent", ts(2026, 2, 17, 10),
              ((WHITEPAPER, 4.0), (PRICING, 0.8)), open_appeal=1.1, click_appeal=1.4),
    _newsletter(3, 3, "Spring cleaning for your lists",
                ((_blog("list-hygiene"), 3.0), (PLANNER, 1.2), (PRICING, 0.6))),
    EmailSpec("Spring product teaser", "Something new is coming to Tracker and Planner",
              PRODUCT_UPDATES, "sent", ts(2026, 3, 17, 15),
              ((TRACKER, 3.0), (PLANNER, 2.5), (PRICING, 0.8)), open_appeal=1.15,
              click_appeal=1.4),
    _newsletter(4, 7, "Meet the team behind Tracker",
                ((_blog("meet-the-team"), 2.0), (WEBINAR_SIGNUP, 1.5), (TRACKER, 1.5))),
    EmailSpec("Webinar invitation: Journeys 101", "Live on April 28: Journeys 101",
              WEBINARS, "sent", ts(2026, 4, 14, 14),
              ((WEBINAR_SIGNUP, 4.0), (TRACKER, 1.0)), open_appeal=1.1, click_appeal=1.3),
    EmailSpec("Webinar reminder: Journeys 101", "One week to go: Journeys 101",
              WEBINARS, "sent", ts(2026, 4, 21, 9),
              ((WEBINAR_SIGNUP, 1.0),), open_appeal=0.9, click_appeal=0.8),
    EmailSpec("Webinar recording: Journeys 101", "The recording of Journeys 101 is ready",
              WEBINARS, "sent", ts(2026, 4, 30, 16),
              ((f"{WWW}/webinar/journeys-101/recording", 3.0), (PRICING, 1.0))),
    _newsletter(5, 5, "Journeys that convert: three stories",
                ((_blog("customer-stories"), 3.0), (PLANNER, 1.0), (PRICING, 1.0))),
    EmailSpec("Product update: Planner 2.0", "Planner 2.0 is here",
              PRODUCT_UPDATES, "sent", ts(2026, 5, 19, 15),
              ((PLANNER, 3.0), (PRICING, 1.0), (DEMO_PAGE, 1.0)), click_appeal=1.1),
    _newsletter(6, 2, "Mid-year check-in",
                ((_blog("mid-year"), 2.0), (WHITEPAPER, 1.5), (PRICING, 0.8))),
    EmailSpec("Pricing update", "Your plan and our new prices",
              CUSTOMERS, "sent", ts(2026, 6, 9, 9),
              ((PRICING, 3.0), (CONTACT_SALES, 1.5)), open_appeal=1.3, click_appeal=1.2),
    _newsletter(7, 7, "Summer reading list",
                ((_blog("summer-reading"), 3.0), (WHITEPAPER, 1.5))),
    EmailSpec("Flash sale: 48 hours only", "48 hours only: 40 % off every plan",
              NEWSLETTER, "sent", ts(2026, 7, 14, 8),
              ((f"{WWW}/offers/flash-sale", 3.0), (PRICING, 1.0)), open_appeal=0.9,
              unsub=0.03, unsub_all=0.005, spam=0.006, min_spam=6),
    EmailSpec("Product update: Tracker integrations", "Tracker now talks to your CRM",
              PRODUCT_UPDATES, "sent", ts(2026, 7, 21, 15),
              ((f"{WWW}/integrations", 3.0), (TRACKER, 2.0))),
    _newsletter(8, 4, "Is your list fit for autumn?",
                ((_blog("deliverability"), 3.0), (TRACKER, 1.0))),
    EmailSpec("Customer survey 2026", "Two minutes to tell us how we're doing",
              CUSTOMERS, "sent", ts(2026, 8, 18, 9),
              ((f"{WWW}/survey/2026", 3.0),), open_appeal=1.1, click_appeal=0.9),
    _newsletter(9, 1, "New: funnel reports",
                ((_blog("funnel-reports"), 3.0), (TRACKER, 1.5), (WEBINAR_SIGNUP, 1.5))),
    EmailSpec("Webinar invitation: Advanced segmentation", "Live on September 29: Advanced segmentation",
              WEBINARS, "sent", ts(2026, 9, 15, 14),
              ((f"{WEBINAR_SIGNUP}/advanced-segmentation", 4.0), (PLANNER, 1.0)),
              open_appeal=1.1, click_appeal=1.2),
    EmailSpec("Webinar reminder: Advanced segmentation", "One week to go: Advanced segmentation",
              WEBINARS, "sent", ts(2026, 9, 22, 9),
              ((f"{WEBINAR_SIGNUP}/advanced-segmentation", 1.0),), open_appeal=0.9,
              click_appeal=0.8),
    EmailSpec("Autumn release notes", "What's new this autumn",
              PRODUCT_UPDATES, "sent", ts(2026, 9, 29, 15),
              ((TRACKER, 2.0), (PLANNER, 2.0), (PRICING, 1.2))),
    _newsletter(10, 6, "Q4 planning checklist",
                ((_blog("q4-checklist"), 3.0), (PRICING, 1.0), (DEMO_PAGE, 1.0))),
    EmailSpec("Renewal reminder", "Your subscription renews next month",
              CUSTOMERS, "sent", ts(2026, 10, 13, 9),
              ((PRICING, 2.0), (CONTACT_SALES, 2.0)), open_appeal=1.2,
              hard_bounce=0.05, soft_bounce=0.04),
    EmailSpec("We miss you", "Still interested? Tell us what you'd like to hear about",
              NEWSLETTER, "sent", ts(2026, 10, 20, 10),
              ((f"{WWW}/preferences", 3.0), (PRICING, 0.5)), open_appeal=0.6,
              click_appeal=0.8, unsub=0.006, lapsed_only=True),
    EmailSpec("Newsletter — December 2026", "The year in review",
              NEWSLETTER, "scheduled", ts(2026, 12, 1, 10),
              ((_blog("year-in-review"), 3.0), (PRICING, 1.0))),
    EmailSpec("Webinar invitation: Year in review", "Live on December 15: our year in review",
              WEBINARS, "scheduled", ts(2026, 12, 8, 14),
              ((f"{WEBINAR_SIGNUP}/year-in-review", 3.0),)),
    EmailSpec("Draft: Summer sale", "Summer sale (draft)", NEWSLETTER, "draft", None,
              ((f"{WWW}/offers/summer-sale", 1.0),)),
    EmailSpec("Draft: Customer case study", "How Northfield doubled its webinar sign-ups",
              CUSTOMERS, "draft", None, ((_blog("case-study"), 1.0), (CONTACT_SALES, 1.0))),
    EmailSpec("Draft: Q1 2027 roadmap", "What's coming in early 2027", PRODUCT_UPDATES,
              "draft", None, ((_blog("2027-roadmap"), 1.0), (PRICING, 1.0))),
)


# -- the audience ---------------------------------------------------------------------
DOMAINS = (
    ("example.com", 6.0), ("example.org", 3.0), ("example.net", 3.0),
    ("mail.example.com", 2.0), ("mail.example.org", 1.0), ("post.example.net", 1.0),
    ("inbox.example.org", 1.0), ("corp.example.com", 1.5), ("studio.example", 0.7),
    ("agency.example", 0.7), ("shop.example", 0.5), ("uni.example.edu", 0.6),
)
# Engagement tiers 0-3 (champion, engaged, casual, cold): share of contacts, chance to
# open, chance to click once opened, weight for unsubscribing / reporting spam.
TIER_SHARE = (0.06, 0.22, 0.40, 0.32)
TIER_OPEN = (0.80, 0.50, 0.22, 0.04)
TIER_CLICK = (0.50, 0.30, 0.13, 0.08)
TIER_UNSUB = (0.2, 0.5, 1.0, 2.0)
TIER_VISITS = (3.0, 1.5, 0.4, 0.05)  # organic page visits over the year (consented)
LIST_SHARE = (0.72, 0.42, 0.26, 0.10)
CONSENT_SHARE = 0.70
LATE_CONSENT_SHARE = 0.05  # of those without consent: give it later in the year
JOINER_SHARE = 0.38  # sign up during the simulated year (double opt-in)
CONFIRM_SHARE = 0.85  # of those: confirm; the rest stay pending
OLD_UNSUB_SHARE = 0.04  # contacts on file who left one list before the year began
MPP_SHARE = 0.20  # mail clients that open everything (machine opens)
QUIET_SHARE = 0.15  # of non-cold contacts: go quiet in the summer
SCANNER_SHARE = 0.004  # link scanners: click every link within seconds (bot clicks)
LATE_SCANNER_SHARE = 0.3  # of those: a gateway that re-scans later, not on delivery
ON_DELIVERY, LATE = 1, 2  # kinds of scanner
SEND_SPREAD_S = 1800  # a campaign goes out over half an hour
