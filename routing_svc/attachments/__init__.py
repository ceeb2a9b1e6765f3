"""Every file of every case, as the owners' events describe them: for coordinators to see and download."""
