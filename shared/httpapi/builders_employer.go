package httpapi

import (
	"log/slog"

	"github.com/civicsnap/civicsnap/shared/builders"
)

func builderRoutes(mux *Router, svc *builders.Service, log *slog.Logger) {}
