package volunteer

// Service runs profiles, teams, activities and sign-ups (H1 fills it in).
type Service struct{}

// AttendanceService runs check-in and check-out, hours, confirmation, disputes and revocation (H2 fills
// it in).
type AttendanceService struct{}
