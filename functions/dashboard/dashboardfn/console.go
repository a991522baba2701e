package dashboardfn

import "net/http"

// consoleHandler serves the console's embedded files.
func consoleHandler() http.Handler { return nil }
