"""Models of the presales app: added by its issue."""
