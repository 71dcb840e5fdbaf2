""""Reageer direct": from the address a resident types to their own server with our post open.

`discovery` reads handles and finds the way in (WebFinger, FEP-3b86, OStatus, nodeinfo);
`netguard` is the SSRF guard every one of those requests goes through. No Flask in this package.
"""
