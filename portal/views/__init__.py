"""Views of the customer portal, one module per section (CONTRACT "Customer portal")."""
