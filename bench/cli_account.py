"""The account the benchmarks' command-line children act as (the command line always acts as a named
account): on a store without accounts, ``MMICD_ADMIN_PASSWORD`` creates this first admin."""

CLI_ACCOUNT = {"MMICD_ADMIN_USER": "admin", "MMICD_ADMIN_PASSWORD": "bench-admin-password",
               "MMICD_USER": "admin", "MMICD_PASSWORD": "bench-admin-password"}
