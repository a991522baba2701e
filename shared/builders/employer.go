package builders

// EmployerStore is the store of employers, settings and worker profiles.
type EmployerStore interface{}
