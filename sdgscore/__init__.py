"""sdgscore: ratings of space-resource projects on SDGs 7, 9, 12, debris and equity risks."""
