"""Staff accounts (scrypt) and the audit log: who may use /beheer, and who changed what. No Flask here."""
