package kpi

// Answers are reporters' answers to resolutions (report's confirm.go), by the day of the answer. Definitions
// (README "KPI definitions"):
//
//   - answers: confirmations (rated 1–5), contests ("not fixed": the report reopens) and the confirmations
//     the window's end implies (auto, no rating).
//   - satisfaction rate (满意率) = confirmations rated 4 or 5 ÷ (rated confirmations + contests): the
//     reporters who said something; the window's silent confirmations are left out.
//   - average rating = the ratings' sum ÷ rated confirmations.
//   - reopen rate = contests ÷ answers (the silent ones included: every resolution is answered once).
//
// Five counts, whatever the volume: a snapshot's size bound does not move.
type AnswerStat struct {
	Answers   int `json:"answers"`
	Rated     int `json:"rated"`
	Satisfied int `json:"satisfied"` // rated 4 or 5
	RatingSum int `json:"ratingSum"`
	Contested int `json:"contested"`
}

// AnswerLine is an answer as the roll-up of its day reads it.
type AnswerLine struct {
	Answer   string // confirmed, contested, auto_confirmed
	Rating   int
	LeadDept string
}

// add counts one answer.
func (a *AnswerStat) add(l AnswerLine) {
	a.Answers++
	switch l.Answer {
	case "contested":
		a.Contested++
	case "confirmed":
		if l.Rating >= 1 && l.Rating <= 5 {
			a.Rated++
			a.RatingSum += l.Rating
			if l.Rating >= 4 {
				a.Satisfied++
			}
		}
	}
}

// merge adds o's counts.
func (a *AnswerStat) merge(o AnswerStat) {
	a.Answers += o.Answers
	a.Rated += o.Rated
	a.Satisfied += o.Satisfied
	a.RatingSum += o.RatingSum
	a.Contested += o.Contested
}

// Rates are the answer figures of a range.
type Rates struct {
	SatisfactionRate *float64 `json:"satisfactionRate"`
	AverageRating    *float64 `json:"averageRating"`
	ReopenRate       *float64 `json:"reopenRate"`
}

// rates derives the range's rates from its counts (nil where nothing was answered).
func (a AnswerStat) rates() Rates {
	r := Rates{SatisfactionRate: ratio(a.Satisfied, a.Rated+a.Contested), ReopenRate: ratio(a.Contested, a.Answers)}
	if a.Rated > 0 {
		avg := float64(int(float64(a.RatingSum)/float64(a.Rated)*100+0.5)) / 100
		r.AverageRating = &avg
	}
	return r
}
