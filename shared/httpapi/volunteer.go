package httpapi

import (
	"log/slog"

	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// Volunteer is the volunteer service's routes (志愿圈): profiles, teams, activities and sign-ups here,
// attendance in volunteer_attendance.go.
func Volunteer(svc *volunteer.Service, att *volunteer.AttendanceService, log *slog.Logger) *Router {
	mux := newRouter(log)
	attendanceRoutes(mux, att, log)
	return mux
}
