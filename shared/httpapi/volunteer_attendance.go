package httpapi

import (
	"log/slog"

	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// attendanceRoutes adds the attendance routes to mux.
func attendanceRoutes(mux *Router, att *volunteer.AttendanceService, log *slog.Logger) {
}
