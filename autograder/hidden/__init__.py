"""The hidden checks of each assignment: ``autograder.hidden.<id>.CHECKS`` maps a test cell grade_id to its checks."""
