"""Provisioning: accounts the platform creates at MetaApi for their owners (with the broker's
login and password, or as drafts the trader configures on MetaApi's page), and every account's
deploy, undeploy, redeploy and removal there, started by the API and carried out step by step by
the provisioning worker. The worker alone speaks to MetaApi through its SDK (metaapi_sdk.py)."""
