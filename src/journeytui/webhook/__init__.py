"""`journeytui serve-webhook`: a receiver for providers' event webhooks (no textual).

* :mod:`journeytui.webhook.verify` checks who sent a request: SendGrid's signed Event
  Webhook (ECDSA P-256), Mailgun's HMAC signature, Postmark's basic auth, and the SNS
  message signature and topic of Amazon SES events.
* :mod:`journeytui.webhook.ingest` reads each request's events (SendGrid's reader, or
  the other providers' mapping) and writes them through the same importer (and so the
  same Recorder and journey advancement) as ``journeytui import``; requests waiting
  for the writer are committed together (group commit), each answered after its
  transaction committed.
* :mod:`journeytui.webhook.server` is the aiohttp application and its run loop.
* :mod:`journeytui.webhook.follow` follows a pipe for ``import sendgrid -``.
"""
