-- A premium subsidy for a loan's guarantee policy (C7): the application names the loan.
ALTER TABLE subsidy_applications ADD COLUMN loan_id TEXT REFERENCES loans(id);
CREATE UNIQUE INDEX subsidy_one_live_per_loan ON subsidy_applications(programme_id, stage, loan_id)
    WHERE loan_id IS NOT NULL AND status NOT IN ('rejected', 'lapsed', 'not_qualified', 'refused');
