import Freshet
print("freshet: not yet implemented")
