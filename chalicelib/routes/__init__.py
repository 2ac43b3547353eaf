"""Route blueprints for feature areas; app.py registers each (`app.register_blueprint`)."""
