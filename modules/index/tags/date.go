package tags

// yearOf finds the year in a date as taggers write it: "1998",
// "1998-05", "1998-05-08", "1998-05-08T12:00:00", "19980508", "08-05-1998",
// "05/08/1998", "8.5.1998". Only a run of exactly four digits counts, and only
// a plausible one (1000–2999): "8" or "'98" give 0 rather than an invented
// year.
func yearOf(s string) int {
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		run := s[i:j]
		if len(run) == 8 && i == 0 { // YYYYMMDD
			run = run[:4]
		}
		if len(run) == 4 {
			if y := atoi(run); y >= 1000 && y <= 2999 {
				return y
			}
		}
		i = j
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// atoi parses a short run of digits.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// position parses a track or disc position: "3", "03", " 3 ", "3/12",
// "3 of 12". It returns 0 for what is missing or not a number.
func position(s string) (n, total int) {
	i := 0
	for i < len(s) && s[i] == ' ' {
		i++
	}
	j := i
	for j < len(s) && j-i < 6 && isDigit(s[j]) {
		j++
	}
	n = atoi(s[i:j])
	for j < len(s) && (s[j] == ' ' || s[j] == '/' || s[j] == 'o' || s[j] == 'f') {
		j++
	}
	k := j
	for k < len(s) && k-j < 6 && isDigit(s[k]) {
		k++
	}
	return n, atoi(s[j:k])
}
