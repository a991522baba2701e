package volunteer

// AttendanceService runs check-in and check-out, hours, confirmation, disputes and revocation (H2 fills
// it in).
type AttendanceService struct{}
