package httpapi

import (
	"log/slog"

	"github.com/civicsnap/civicsnap/shared/builders"
)

func jobRoutes(mux *Router, svc *builders.Service, log *slog.Logger) {}
