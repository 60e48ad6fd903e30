"""The official file layouts hsinsight recognises, one module per publisher's table."""
