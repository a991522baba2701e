package httpapi

import (
	"log/slog"

	"github.com/civicsnap/civicsnap/shared/builders"
)

func hireRoutes(mux *Router, svc *builders.HireService, log *slog.Logger) {}
