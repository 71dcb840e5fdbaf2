"""What the tests run against: fakes (the fediverse, hostile TLS servers), throw-away PostgreSQL and
Redis servers, the QR decoder, the XSS corpus. Nothing here is a test itself."""
