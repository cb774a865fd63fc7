-- What an attachment is filed as among the documents its owner asks for (a subsidy
-- programme's document code, such as `policy_and_invoice`); empty when nothing is asked.
ALTER TABLE attachments ADD COLUMN label TEXT NOT NULL DEFAULT '';
