"""journeytui: email activity to customer-journey progress."""
