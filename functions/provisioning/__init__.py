"""Carries out account operations at MetaApi (create, deploy, undeploy, redeploy, remove), one step
per delivery of the provisioning queue; the only function with the MetaApi SDK."""
