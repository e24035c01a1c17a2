"""Many sites in one run: the site files a command is given (`discovery`), planned in
parallel worker processes (`runner`, `planning`), reported per site with a grand
summary and one exit code (`report`), saved and applied one after another
(`saved`, `applying`)."""
