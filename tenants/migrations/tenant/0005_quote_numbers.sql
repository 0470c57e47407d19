-- A quote number for people (`Q-<year>-<nnnn>`, `-R<n>` for later revisions), stored so it
-- never changes. Existing quotes are numbered per project in order of the project's first quote.

ALTER TABLE quotes ADD COLUMN number TEXT;

WITH firsts AS (
    SELECT project_id, min(created_at) AS first_at FROM quotes GROUP BY project_id
), seq AS (
    SELECT project_id, substr(first_at, 1, 4) AS yr,
           row_number() OVER (PARTITION BY substr(first_at, 1, 4) ORDER BY first_at, project_id) AS n
    FROM firsts
)
UPDATE quotes
SET number = (SELECT 'Q-' || seq.yr || '-' || printf('%04d', seq.n) FROM seq
              WHERE seq.project_id = quotes.project_id)
             || CASE WHEN revision > 1 THEN '-R' || revision ELSE '' END;

CREATE UNIQUE INDEX quotes_number ON quotes (number);
