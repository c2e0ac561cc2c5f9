"""The public pages: server-rendered, bilingual (en/ja), accessible."""
