"""What cases look like on the wire, one module per area."""
