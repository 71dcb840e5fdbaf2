"""Stuur PRAATMEE: keyword messages by SMS and WhatsApp answered with the right link, storing no number.

`keyword` reads a message, `core.KeywordDesk` decides the answer (`replies`), within `limits`,
and `counts` adds it to a campaign's figures; one small adapter per gateway (`twilio_gateway`,
`whatsapp_cloud`, `cm`) verifies its webhook and sends the answer back its own way, the last two
through `outbox`. The web layer (`web.sms`) only hands over the request. No Flask in this package.
"""
