print("docktail")
