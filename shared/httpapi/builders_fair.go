package httpapi

import (
	"log/slog"

	"github.com/civicsnap/civicsnap/shared/builders"
)

func fairRoutes(mux *Router, svc *builders.FairService, log *slog.Logger) {}
