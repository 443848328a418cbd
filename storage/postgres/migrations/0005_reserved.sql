-- Reserved for ig's 0005 (session 6 contracts gave ih 0006): the loader wants numbers without gaps.
-- At merge the lead drops this file when ig's 0005 lands, or renumbers 0006 to 0005 when none does.
SELECT 1;
