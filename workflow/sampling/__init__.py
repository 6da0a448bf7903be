"""一单两库 and the draw: tables and imports, plans, eligibility, the ssj-draw-v1 algorithm, a task's draw, inspection sheets, results import."""
