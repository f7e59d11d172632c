"""`journeytui serve-webhook`: a receiver for providers' event webhooks (no textual).

* :mod:`journeytui.webhook.verify` checks SendGrid's signed Event Webhook (ECDSA P-256).
* :mod:`journeytui.webhook.ingest` writes one request's events into the store in one
  transaction, through the same importer (and so the same Recorder and journey
  advancement) as ``journeytui import sendgrid``.
* :mod:`journeytui.webhook.server` is the aiohttp application and its run loop.
"""
