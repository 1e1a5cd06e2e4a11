"""The read side's query layer: the analytics questions over the published warehouse, the one metric registry,
scope (who may see what), the published-warehouse reader, formatting and report weeks."""
