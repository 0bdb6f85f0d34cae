"""Where browser profiles live on each OS, and whether a browser is using one."""
