package dashboardfn

import (
	"net/http"

	"github.com/civicsnap/civicsnap/shared/console"
)

// consoleHandler serves the console's embedded files.
func consoleHandler() http.Handler { return console.Handler("/console/") }
